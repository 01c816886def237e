array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'libreoffice',
      'path' => '/usr/lib/libreoffice/program/soffice.bin',
      'win' => 'budget.ods - LibreOffice Calc',
      'url' => '',
      'start' => '1314172181',
      'end' => '1314172780',
    ),
  ),
)