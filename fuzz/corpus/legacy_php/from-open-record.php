array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'xterm',
      'path' => '/usr/bin/xterm',
      'win' => 'make test',
      'url' => '',
      'start' => '1314172181',
      'end' => '1314172210',
    ),
    1 => 
    array (
      'app' => 'firefox',
      'path' => '/usr/lib/firefox/firefox',
      'win' => 'Stint protocol - Mozilla Firefox',
      'url' => 'https://stint.example',
      'start' => '1314172211',
      'end' => '1314172240',
    ),
    2 => 
    array (
      'app' => 'code',
      'path' => '/usr/share/code/code',
      'win' => 'journal.c - stint - Visual Studio Code',
      'url' => '',
      'start' => '1314172241',
    ),
  ),
)