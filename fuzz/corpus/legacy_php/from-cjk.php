array (
  'now' => '1314172183',
  'version' => '1.0.4289',
  'log' => 
  array (
    0 => 
    array (
      'app' => 'gedit',
      'path' => '/usr/bin/gedit',
      'win' => '文件夹 - 资源管理器',
      'url' => '',
      'start' => '1314172181',
      'end' => '1314172181',
    ),
    1 => 
    array (
      'app' => 'gedit',
      'path' => '/usr/bin/gedit',
      'win' => '日本語のページ',
      'url' => '',
      'start' => '1314172182',
      'end' => '1314172182',
    ),
    2 => 
    array (
      'app' => 'gedit',
      'path' => '/usr/bin/gedit',
      'win' => '한국어 문서',
      'url' => '',
      'start' => '1314172183',
      'end' => '1314172183',
    ),
  ),
)