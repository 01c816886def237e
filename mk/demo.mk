# make demo: Stint end to end in under a minute (scripts/demo.sh): stint-collector on a free
# loopback port with a throw-away certificate, stintd on a replay of a working day, the collector
# taken away and brought back, and a verdict on what the server holds.
#
#   make demo                      installs what is missing (make deps), builds what it needs
#   make demo DEMO_BUILD=DIR       uses the binaries already built in DIR (the test suite does)
.PHONY: demo

DEMO_BUILD ?=

demo:
ifeq ($(DEMO_BUILD),)
	@$(MAKE) --no-print-directory deps
	@$(CONFIGURE) -B $(BUILD)/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)/plain -j $(JOBS) --target stintd stintctl stint-collector
	@sh scripts/demo.sh $(BUILD)/plain
else
	@sh scripts/demo.sh $(DEMO_BUILD)
endif
