array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'slack',
      'path' => '',
      'win' => '🎉 Release party 🎉',
      'url' => 'app.slack.com',
      'start' => '1314172181',
      'end' => '1314172181',
    ),
    1 => 
    array (
      'app' => 'slack',
      'path' => '',
      'win' => '👨‍👩‍👧 🇱🇻',
      'url' => 'app.slack.com',
      'start' => '1314172182',
      'end' => '1314172182',
    ),
    2 => 
    array (
      'app' => 'slack',
      'path' => '',
      'win' => 'Café ǟ',
      'url' => 'app.slack.com',
      'start' => '1314172183',
      'end' => '1314172183',
    ),
  ),
)