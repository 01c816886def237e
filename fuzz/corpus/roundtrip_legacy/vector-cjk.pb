
^zDK��!:`��1.0.4289�Ð֟&"G����֟&ﻐ֟& *gedit2/usr/bin/gedit:文件夹 - 资源管理器"A��֟&�Ð֟& *gedit2/usr/bin/gedit:日本語のページ"<��Ð֟&�ː֟& *gedit2/usr/bin/gedit:한국어 문서