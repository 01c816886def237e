array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'NUL\\and \'quotes\'',
      'path' => '',
      'win' => 'a' . "\0" . 'b "q" \'q\' \\ 	
    </script> 50%',
      'url' => 'https://example.com/a?b=c&d=e#f',
      'start' => '1314172181',
      'end' => '1314172181',
    ),
  ),
)