<?php
// oracle.php — the PHP half of the comparison of the legacy shapes (run_oracle.sh).
//
//   php tests/legacy/oracle.php DIR MIN_BATCHES
//
// DIR holds what tests/legacy/oracle_gen wrote: model.txt (each batch's model, strings in hex)
// and Stint's four outputs. For every batch this script builds the legacy array from the model
// by its own code (the mapping of spec/PROTOCOL.md, written here a second time), then checks
//   - byte for byte: var_export, serialize, json_encode and http_build_query of that array
//     against Stint's php, php-serialize, legacy-json and form outputs;
//   - the way back: eval, unserialize, json_decode(…, true) and parse_str of Stint's outputs give
//     the same array (===: same keys, order, types and bytes). http_build_query writes nothing
//     for an empty 'log', so parse_str's array lacks that key then;
//   - and it writes DIR/variants.out: for each batch the same array as other PHP code and other
//     settings print it (a hand-written literal with double quotes, concatenation, short or
//     long arrays, no keys, odd whitespace; json_encode with other flags; a form body with raw
//     brackets, RFC 3986 encoding and the pairs of each record shuffled), each checked here to
//     mean the same array to PHP; `oracle_gen --variants` then checks that Stint's readers
//     read them to the same model.
// Prints one verdict line; exit status 0 when everything held, 1 otherwise.
error_reporting(E_ALL);
set_error_handler(function ($no, $msg, $file, $line) {
    throw new ErrorException($msg, 0, $no, $file, $line);
});

if ($argc != 3) {
    fwrite(STDERR, "usage: php oracle.php DIR MIN_BATCHES\n");
    exit(2);
}
$dir = $argv[1];
$min = (int)$argv[2];

function unhex(string $h): string
{
    return $h === '-' ? '' : hex2bin($h);
}

// floor(ms / 1000) as a decimal string, by PHP's own integer arithmetic
function secs(int $ms): string
{
    $r = $ms % 1000;
    if ($r < 0) {
        $r += 1000;
    }
    return (string)intdiv($ms - $r, 1000);
}

function entry(array $f): ?array
{
    // f: tag kind start end app path title url; only active (1) and unspecified (0) are kept
    $kind = (int)$f[1];
    if ($kind !== 0 && $kind !== 1) {
        return null;
    }
    $e = [
        'app' => unhex($f[4]),
        'path' => unhex($f[5]),
        'win' => unhex($f[6]),
        'url' => unhex($f[7]),
        'start' => secs((int)$f[2]),
    ];
    if (secs((int)$f[3]) !== '0') { // closed: an end that is not 0 s
        $e['end'] = secs((int)$f[3]);
    }
    return $e;
}

function next_frame($fh, string $name): string
{
    $line = fgets($fh);
    if ($line === false) {
        throw new Exception("$name: ended early");
    }
    $len = (int)$line;
    $bytes = $len > 0 ? fread($fh, $len) : '';
    if (strlen($bytes) !== $len || fread($fh, 1) !== "\n") {
        throw new Exception("$name: bad frame");
    }
    return $bytes;
}

// --- variants: the same array as other code prints it --------------------------------------

function ws(): string
{
    return ['', ' ', "\n", "\t", "\r\n  ", ''][mt_rand(0, 5)];
}

// a string literal: double quotes with escapes, or single-quoted pieces joined with '.'
function str_lit(string $s): string
{
    if (mt_rand(0, 1)) {
        $out = '"';
        for ($i = 0; $i < strlen($s); $i++) {
            $c = $s[$i];
            $o = ord($c);
            if ($c === '\\' || $c === '"' || $c === '$') {
                $out .= '\\' . $c;
            } elseif ($o < 0x20 || $o === 0x7f) {
                $out .= mt_rand(0, 1) ? sprintf('\\x%02x', $o) : sprintf('\\%03o', $o);
            } elseif ($c === '{' && mt_rand(0, 1)) {
                $out .= '\\u{7b}';
            } else {
                $out .= $c;
            }
        }
        return $out . '"';
    }
    if (strlen($s) < 2) {
        return var_export($s, true);
    }
    $cut = mt_rand(1, strlen($s) - 1);
    return var_export(substr($s, 0, $cut), true) . ws() . '.' . ws() .
        var_export(substr($s, $cut), true);
}

function php_lit(array $v): string
{
    $parts = [];
    $nokeys = array_is_list($v) && mt_rand(0, 1);
    foreach ($v as $k => $x) {
        $key = $nokeys ? '' : (is_int($k) ? (string)$k : str_lit($k)) . ws() . '=>' . ws();
        $parts[] = ws() . $key . (is_array($x) ? php_lit($x) : str_lit($x)) . ws();
    }
    $body = implode(',', $parts) . ($parts && mt_rand(0, 1) ? ',' : '');
    return mt_rand(0, 1) ? ['array(', 'ARRAY (', 'array  ('][mt_rand(0, 2)] . $body . ')'
                         : '[' . $body . ']';
}

function json_variant(array $a): string
{
    $flags = [JSON_PRETTY_PRINT, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE,
        JSON_FORCE_OBJECT, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT,
        JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_FORCE_OBJECT];
    return json_encode($a, $flags[mt_rand(0, count($flags) - 1)] | JSON_THROW_ON_ERROR);
}

function form_variant(array $a): string
{
    $enc = mt_rand(0, 1) ? 'rawurlencode' : 'urlencode';
    $pairs = [];
    foreach ($a['log'] as $i => $rec) {
        $mine = [];
        foreach ($rec as $k => $v) {
            $name = mt_rand(0, 1) ? "log[$i][$k]" : "log%5B$i%5D%5B$k%5D";
            $mine[] = $name . '=' . $enc($v);
        }
        shuffle($mine); // a record's pairs in any order
        array_push($pairs, ...$mine);
    }
    $pairs[] = 'version=' . $enc($a['version']);
    $pairs[] = 'now=' . $enc($a['now']);
    return implode(mt_rand(0, 3) ? '&' : '&&', $pairs);
}

function first_diff(string $a, string $b): int
{
    $n = min(strlen($a), strlen($b));
    for ($i = 0; $i < $n; $i++) {
        if ($a[$i] !== $b[$i]) {
            return $i;
        }
    }
    return $n;
}

mt_srand(1314172183);
$variants = fopen("$dir/variants.out", 'wb');
$model = fopen("$dir/model.txt", 'rb');
$outs = [];
foreach (['php', 'ser', 'json', 'form'] as $s) {
    $outs[$s] = fopen("$dir/$s.out", 'rb');
}
$batches = 0;
$records = 0;
$bytes = 0;
$failures = [];
$fail = function (int $b, string $what) use (&$failures) {
    if (count($failures) < 20) {
        $failures[] = "batch $b: $what";
    } else {
        $failures[] = '';
    }
};

try {
    while (($line = fgets($model)) !== false) {
        $f = explode(' ', rtrim($line, "\n"));
        if ($f[0] !== 'B') {
            throw new Exception("model.txt: expected a B line, got " . substr($line, 0, 20));
        }
        $b = (int)$f[1];
        $a = ['now' => secs((int)$f[2]), 'version' => unhex($f[3]), 'log' => []];
        while (($line = fgets($model)) !== false && $line !== "E\n") {
            $r = explode(' ', rtrim($line, "\n"));
            $records += $r[0] === 'R' ? 1 : 0; // the batch's records (not the open one), as oracle_gen counts them
            $e = entry($r);
            if ($e !== null) {
                $a['log'][] = $e;
            }
        }
        $batches++;
        $ours = [];
        foreach ($outs as $s => $fh) {
            $ours[$s] = next_frame($fh, "$s.out");
            $bytes += strlen($ours[$s]);
        }
        // 1. byte for byte against PHP's own printing of the same array
        $theirs = [
            'php' => var_export($a, true),
            'ser' => serialize($a),
            'json' => json_encode($a),
            'form' => http_build_query($a),
        ];
        foreach ($theirs as $s => $t) {
            if ($t === false) {
                $fail($b, "PHP could not print the $s shape: " . json_last_error_msg());
            } elseif ($t !== $ours[$s]) {
                $at = first_diff($t, $ours[$s]);
                $fail($b, sprintf("%s differs at byte %d: PHP %s, Stint %s", $s, $at,
                    json_encode(bin2hex(substr($t, $at, 16))),
                    json_encode(bin2hex(substr($ours[$s], $at, 16)))));
            }
        }
        // 2. PHP reads our output back to the same array
        $back = eval('return ' . $ours['php'] . ';');
        if ($back !== $a) {
            $fail($b, 'eval of the php shape gives another array');
        }
        $back = unserialize($ours['ser'], ['allowed_classes' => false]);
        if ($back !== $a) {
            $fail($b, 'unserialize of the php-serialize shape gives another array');
        }
        $back = json_decode($ours['json'], true, 512, JSON_THROW_ON_ERROR);
        if ($back !== $a) {
            $fail($b, 'json_decode of the legacy-json shape gives another array');
        }
        parse_str($ours['form'], $back);
        $want = $a;
        if ($want['log'] === []) {
            unset($want['log']);
        }
        if ($back !== $want) {
            $fail($b, 'parse_str of the form shape gives another array');
        }
        // 3. variants, each checked to mean $a to PHP, for oracle_gen --variants
        $v = ['php' => php_lit($a), 'json' => json_variant($a), 'form' => form_variant($a)];
        if (eval('return ' . $v['php'] . ';') !== $a) {
            $fail($b, 'the php variant does not mean the array: ' . substr($v['php'], 0, 80));
        }
        if (json_decode($v['json'], true, 512, JSON_THROW_ON_ERROR) !== $a &&
            !($a['log'] === [] && json_decode($v['json'], true) == $a)) {
            $fail($b, 'the json variant does not mean the array');
        }
        parse_str($v['form'], $back);
        if ($back != $want) { // == : parse_str keeps the order in which names came
            $fail($b, 'the form variant does not mean the array');
        }
        foreach ($v as $text) {
            fwrite($variants, strlen($text) . "\n" . $text . "\n");
        }
    }
} catch (Throwable $t) {
    $failures[] = 'stopped: ' . $t->getMessage();
}
fclose($variants);
foreach ($outs as $s => $fh) {
    if (fgets($fh) !== false) {
        $failures[] = "$s.out holds more batches than model.txt";
    }
}
if ($batches < $min) {
    $failures[] = "only $batches batches, at least $min expected";
}
if ($failures) {
    foreach (array_filter($failures) as $msg) {
        fwrite(STDERR, "FAIL $msg\n");
    }
    printf("legacy PHP oracle (PHP %s): %d batches, %d records: %d FAILURES\n", PHP_VERSION,
        $batches, $records, count($failures));
    exit(1);
}
printf("legacy PHP oracle (PHP %s): %d batches, %d records, %d bytes: all four shapes equal " .
    "PHP's output byte for byte, and PHP reads each back to the same array\n", PHP_VERSION,
    $batches, $records, $bytes);
exit(0);
