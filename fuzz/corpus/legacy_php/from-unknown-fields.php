array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'future',
      'path' => '',
      'win' => '',
      'url' => '',
      'start' => '1314172181',
      'end' => '1314172181',
    ),
  ),
)