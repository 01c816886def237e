# Fuzzing (fuzz/README.md). Included by the top-level Makefile.
#
#   make fuzz                 every harness FUZZ_SECONDS (default 60) with libFuzzer, ASan+UBSan
#   make fuzz FUZZ=pb_diff    only the harnesses named (names without fuzz_)
#   make fuzz-merge           fold what `make fuzz` found into fuzz/corpus/<h>/, minimised
#   make fuzz-open            replay the open findings (fuzz/regressions/<h>/open/): which still fail
#   make fuzz-afl             the same harnesses with AFL++ (afl-clang-fast), FUZZ_SECONDS each
#
# New inputs go to $(FUZZ_WORK)/corpus/<h>, crashes to $(FUZZ_WORK)/artifacts/<h>/; runs are
# niced, one harness at a time.

FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build/clang/fuzz
FUZZ_WORK ?= build/clang/fuzz-work
FUZZ_AFL_BUILD ?= build/afl/fuzz
FUZZ_AFL_WORK ?= build/afl/fuzz-work
FUZZ_ALL := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ ?= $(FUZZ_ALL)

.PHONY: fuzz fuzz-build fuzz-merge fuzz-open fuzz-afl

fuzz-build: deps
	@CLANG=clang sh fuzz/libfuzzer.sh build . $(FUZZ_BUILD)

fuzz: fuzz-build
	@failed=""; \
	for h in $(FUZZ); do \
	    echo "== fuzz_$$h: $(FUZZ_SECONDS) s =="; \
	    nice -n 19 sh fuzz/libfuzzer.sh run $(FUZZ_BUILD) . $$h $(FUZZ_SECONDS) $(FUZZ_WORK); \
	    rc=$$?; \
	    if [ $$rc -eq 77 ]; then echo "fuzz_$$h: not built, skipped"; \
	    elif [ $$rc -ne 0 ]; then failed="$$failed $$h"; fi; \
	done; \
	if [ -n "$$failed" ]; then \
	    echo "findings in:$$failed (inputs under $(FUZZ_WORK)/artifacts/)"; exit 1; \
	fi; \
	echo "no findings"

fuzz-merge: fuzz-build
	@for h in $(FUZZ); do \
	    [ -x $(FUZZ_BUILD)/fuzz/fuzz_$$h ] && [ -d $(FUZZ_WORK)/corpus/$$h ] || continue; \
	    mkdir -p fuzz/corpus/$$h; \
	    $(FUZZ_BUILD)/fuzz/fuzz_$$h -merge=1 -max_len=16384 fuzz/corpus/$$h $(FUZZ_WORK)/corpus/$$h \
	        2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true; \
	done

fuzz-open: fuzz-build
	@for d in fuzz/regressions/*/open; do \
	    [ -d "$$d" ] || continue; \
	    h=$$(basename $$(dirname $$d)); \
	    for f in $$d/*; do \
	        [ -f "$$f" ] || continue; \
	        if $(FUZZ_BUILD)/fuzz/fuzz_$$h "$$f" >/dev/null 2>&1; then \
	            echo "FIXED  $$f  (move it to fuzz/regressions/$$h/)"; \
	        else echo "OPEN   $$f"; fi; \
	    done; \
	done

# AFL++ is not part of `make deps`: installed here when root, otherwise asked for.
fuzz-afl: deps
	@command -v afl-clang-fast >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ]; then apt-get install -y afl++; \
	    else echo "fuzz-afl needs AFL++: sudo apt-get install afl++"; exit 1; fi; }
	@cmake -S . -B $(FUZZ_AFL_BUILD) -DCMAKE_C_COMPILER=afl-clang-fast -DSTINT_FUZZ=ON \
	    -DSTINT_SANITIZE=ON -DSTINT_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_AFL_BUILD) --target fuzz-harnesses -j $(JOBS)
	@for h in $(FUZZ); do \
	    [ -x $(FUZZ_AFL_BUILD)/fuzz/fuzz_$$h ] || continue; \
	    dict=$$(sed -n 's/.*STINT_FUZZ_DICT:[[:space:]]*\([^[:space:]*]*\).*/\1/p' fuzz/fuzz_$$h.c | head -n 1); \
	    echo "== afl-fuzz fuzz_$$h: $(FUZZ_SECONDS) s =="; \
	    mkdir -p $(FUZZ_AFL_WORK)/$$h; \
	    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
	    nice -n 19 afl-fuzz -V $(FUZZ_SECONDS) -m none -t 2000 -i fuzz/corpus/$$h \
	        -o $(FUZZ_AFL_WORK)/$$h $${dict:+-x fuzz/dict/$$dict} -- $(FUZZ_AFL_BUILD)/fuzz/fuzz_$$h \
	        || exit 1; \
	    ls $(FUZZ_AFL_WORK)/$$h/default/crashes 2>/dev/null | grep -q id: && \
	        echo "fuzz_$$h: crashes in $(FUZZ_AFL_WORK)/$$h/default/crashes" || true; \
	done
