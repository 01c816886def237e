"""clex: blank out the comments and the string and character literals of C source.

The checks of scripts/lint/ look for tokens (a banned function's name) and count lines; neither
may be fooled by a name inside a comment or a string. strip() returns text of the same length
and the same line breaks, with every character of a comment or a literal's contents replaced by
a space, so offsets and line numbers still point into the original file.
"""


def strip(text):
    """Return text with comments and literal contents blanked (newlines kept)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = i + 2
            # a backslash-newline continues a // comment onto the next line
            while j < n and not (text[j] == "\n" and text[j - 1] != "\\"):
                j += 1
            blank(i, j)
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, min(j, n))  # keep the quotes: "x" stays a token boundary
            i = j + 1
        else:
            i += 1
    return "".join(out)
