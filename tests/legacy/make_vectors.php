<?php
// make_vectors.php — writes the documented DeskTime sample in the four legacy shapes, as PHP
// itself prints them: OUTDIR/desktime-sample.{php,ser,legacy.json,form}.
//
//   php tests/legacy/make_vectors.php spec/vectors
//
// spec/vectors/ holds the committed output; tests/legacy/run_oracle.sh runs this script into a
// scratch folder and compares, and test_legacy checks that Stint's emitters give the same bytes
// for the sample model (now 1314172183000 ms, version 1.0.4289, one open record).
if ($argc != 2) {
    fwrite(STDERR, "usage: php make_vectors.php OUTDIR\n");
    exit(2);
}
$a = [
    'now' => '1314172183',
    'version' => '1.0.4289',
    'log' => [
        [
            'app' => 'firefox',
            'path' => '\\Mozilla Firefox\\firefox.exe',
            'win' => 'jQuery UI - Datepicker Demos & Documentation',
            'url' => 'jqueryui.com',
            'start' => '1314172181',
        ],
    ],
];
$dir = $argv[1];
$shapes = [
    'php' => var_export($a, true),
    'ser' => serialize($a),
    'legacy.json' => json_encode($a),
    'form' => http_build_query($a),
];
foreach ($shapes as $ext => $bytes) {
    if ($bytes === false || file_put_contents("$dir/desktime-sample.$ext", $bytes) === false) {
        fwrite(STDERR, "make_vectors.php: cannot write $dir/desktime-sample.$ext\n");
        exit(1);
    }
}
