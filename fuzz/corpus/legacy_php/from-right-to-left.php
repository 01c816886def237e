array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'chromium',
      'path' => '',
      'win' => 'مرحبا بالعالم 2026',
      'url' => 'https://www.example.org/عربي',
      'start' => '1314172181',
      'end' => '1314172181',
    ),
    1 => 
    array (
      'app' => 'chromium',
      'path' => '',
      'win' => 'שלום‏ ‮abc‬',
      'url' => 'https://www.example.org/عربي',
      'start' => '1314172182',
      'end' => '1314172182',
    ),
  ),
)