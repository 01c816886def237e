array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
  ),
)