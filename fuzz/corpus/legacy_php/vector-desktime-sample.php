array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'firefox',
      'path' => '\\Mozilla Firefox\\firefox.exe',
      'win' => 'jQuery UI - Datepicker Demos & Documentation',
      'url' => 'jqueryui.com',
      'start' => '1314172181',
    ),
  ),
)