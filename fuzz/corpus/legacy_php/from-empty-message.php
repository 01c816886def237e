array (
  'now' => '0',
  'version' => '',
  'log' => 
  array (
  ),
)