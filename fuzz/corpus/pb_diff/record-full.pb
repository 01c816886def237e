dà¥ê÷ü&«Éµ÷ü& *libreoffice2(/usr/lib/libreoffice/program/soffice.bin:
budget.odsBhttps://example.com/HP