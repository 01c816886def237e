
^zDK��!:`��1.0.4289�Ð֟&"_����֟&ﻐ֟& *chromium:مرحبا بالعالم 2026B https://www.example.org/عربي"V��֟&�Ð֟& *chromium:שלום‏ ‮abc‬B https://www.example.org/عربي