# FiT Explorer — set-up, build, run, test and benchmark on Debian.
# `make run` and `make test` install what is missing (apt packages, the Python venv) first.

SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev libdnnl-dev libncursesw5-dev libpng-dev pkg-config tmux python3-venv fonts-noto-color-emoji unicode-data libsixel-bin xterm xvfb x11-apps netpbm xdotool
VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FIXTURES := Tests/FiTKitTests/Fixtures/forward
THREADS ?= $(shell nproc)

.PHONY: all deps venv build release install install-files manual uninstall run test test-swift test-python test-fuzz test-portable fuzz fixtures bench clean \
        dataset vae train export-model embedded-fixtures evaluate samples plot-training

all: build

## deps: install the Debian packages the build and the tests need (only those missing)
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## venv: the Python environment for python/ (pinned CPU PyTorch)
venv: $(VENV)/.installed
$(VENV)/.installed: python/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r python/requirements.txt
	touch $@

build: deps
	swift build

## release: the optimised build, with the Swift runtime linked in (the binary needs only the Debian libraries)
release: deps
	swift build -c release --static-swift-stdlib

PREFIX ?= /usr/local
MANUAL = .build/plugins/GenerateManual/outputs/FiTTUI/fit.1
## install: fit into $(PREFIX)/lib/fit (binary, its resource bundle with the embedded model, themes),
##          the command $(PREFIX)/bin/fit, shell completions (bash, zsh, fish) and the man page
##          (swift-argument-parser's manual plugin); uninstall removes them
install: manual release install-files

## manual: the man page from the commands' help (swift-argument-parser's plugin builds fit in
## release without the static runtime, so `release` must come after it)
manual: deps
	swift package generate-manual --configuration release

## install-files: the installing step alone (with the release build and the manual already made)
install-files:
	install -d $(DESTDIR)$(PREFIX)/lib/fit $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 .build/release/fit $(DESTDIR)$(PREFIX)/lib/fit/fit
	rm -rf $(DESTDIR)$(PREFIX)/lib/fit/FiTExplorer_FiTTUI.resources $(DESTDIR)$(PREFIX)/lib/fit/themes
	cp -R .build/release/FiTExplorer_FiTTUI.resources themes $(DESTDIR)$(PREFIX)/lib/fit/
	ln -sf ../lib/fit/fit $(DESTDIR)$(PREFIX)/bin/fit
	.build/release/fit --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/fit
	.build/release/fit --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_fit
	.build/release/fit --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/fit.fish
	install -m 644 $(MANUAL) $(DESTDIR)$(PREFIX)/share/man/man1/fit.1

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/lib/fit
	rm -f $(DESTDIR)$(PREFIX)/bin/fit $(DESTDIR)$(PREFIX)/share/man/man1/fit.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/fit $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_fit \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/fit.fish

## run: set up, build and open the explorer on the embedded emoji model
run: release
	.build/release/fit explore

## test: set up and run every test (Swift, Python, the fuzz targets for FUZZ_SECONDS each, and
## the portable release binary's libraries)
test: venv test-swift test-python test-fuzz test-portable

## test-portable: the release binary links only Debian libraries (Tests/check-portable.sh), and
## `make install` into a scratch prefix works from anywhere (Tests/check-install.sh)
test-portable: manual release
	Tests/check-portable.sh .build/release/fit
	Tests/check-install.sh

FUZZ_SECONDS ?= 20

## fuzz / test-fuzz: libFuzzer on the safetensors and PNG-record parsers (Fuzz/run.sh; make fuzz FUZZ_SECONDS=600)
fuzz test-fuzz: deps
	Fuzz/run.sh $(FUZZ_SECONDS)

## test-swift: the Swift tests, optimised (they decode real-size images; FiTKit has no
## per-target optimisation flags, so that it can be a package dependency)
test-swift: deps
	swift test -c release
	cd Examples/GenerateOne && swift run -c release GenerateOne heart /tmp/fit-example-heart.png

test-python: venv
	cd python && ../$(PYTHON) -m pytest -q

## fixtures: regenerate the golden fixtures from the PyTorch reference
fixtures: venv
	$(PYTHON) python/make_fixtures.py
	$(PYTHON) python/make_sampling_fixtures.py
	$(PYTHON) python/make_vae_fixtures.py

## bench: fit and the PyTorch reference on the same shapes and threads, fp32 and bf16
## (bf16 only where the CPU has it natively: `fit inspect` says)
bench: release venv
	for p in fp32 bf16; do \
	  .build/release/fit bench forward --preset fitv2-xl --tokens 256 --batch 2 --threads $(THREADS) --iterations 3 --precision $$p; \
	  $(PYTHON) python/bench_forward.py --preset fitv2-xl --tokens 256 --batch 2 --threads $(THREADS) --iterations 3 --warmup 1 --precision $$p; \
	done
	.build/release/fit bench decode --size 256x256 --threads $(THREADS) --iterations 3
	$(PYTHON) python/bench_vae.py --size 256x256 --threads $(THREADS) --iterations 3 --warmup 1

## The embedded model: data set, training, export, its parity fixtures, evaluation and samples.
dataset: venv
	$(PYTHON) python/emoji_dataset.py

## vae: the embedded model's VAE (python/weights/vae-emoji.safetensors, committed; about 16 CPU minutes)
vae: dataset
	@test -f python/weights/vae-emoji.safetensors || $(PYTHON) python/train_vae.py

## train: the shipped embedded model from scratch, in three stages (about 7 hours on 2 CPU cores;
## each stage resumes where it stopped: run `make train` again; MINUTES=N stops a stage after N minutes):
##   1. depth 6, 13,755 steps (python/recipes/embedded.json)
##   2. grown to depth 9 (--init), 5,238 steps (embedded-deep.json)
##   3. 5,000 more steps with a cool-down (embedded-deep-phase2.json)
## then export-model writes the file fit ships. A finished stage is skipped (its export exists).
TRAIN = $(PYTHON) python/train.py --resume $(if $(MINUTES),--max-minutes $(MINUTES))
RUNS = python/runs
RECOMMENDED = {"sampler": "euler", "steps": 30, "cfg": 4.0, "size": "32x32", "interpolation": "no", \
  "extrapolation": {"interpolation": "yarn", "decouple": true, "trained_tokens": 144, "trained_side": 16}}
train: $(RUNS)/embedded-deep-phase2/export.safetensors

$(RUNS)/embedded/export.safetensors: | dataset vae
	$(TRAIN) --recipe python/recipes/embedded.json --steps 13755
	$(PYTHON) python/export_model.py --run $(RUNS)/embedded --out $@

$(RUNS)/embedded-deep/export.safetensors: $(RUNS)/embedded/export.safetensors
	$(TRAIN) --recipe python/recipes/embedded-deep.json --steps 5238 --init $<
	$(PYTHON) python/export_model.py --run $(RUNS)/embedded-deep --out $@

$(RUNS)/embedded-deep-phase2/export.safetensors: $(RUNS)/embedded-deep/export.safetensors
	$(TRAIN) --recipe python/recipes/embedded-deep-phase2.json --init $<
	$(PYTHON) python/export_model.py --run $(RUNS)/embedded-deep-phase2 --out $@ --recommended '$(RECOMMENDED)'

## export-model: the finished run (stage 3) as the file fit ships
export-model: venv
	$(PYTHON) python/export_model.py --run $(RUNS)/embedded-deep-phase2 \
	  --out Sources/FiTTUI/Resources/fit-emoji.safetensors --recommended '$(RECOMMENDED)'

embedded-fixtures: venv
	$(PYTHON) python/make_embedded_fixtures.py

evaluate: venv
	$(PYTHON) python/evaluate.py --checkpoint Sources/FiTTUI/Resources/fit-emoji.safetensors --threads $(THREADS)

## plot-training: stage 3's curve (docs/embedded-training-stage3.png)
plot-training: venv
	$(PYTHON) python/plot_training.py --run $(RUNS)/embedded-deep-phase2 --out docs/embedded-training-stage3.png \
	  --title "embedded model, stage 3 (depth 9, cool-down over the last half): rectified-flow loss (latents)"

samples: release venv
	$(PYTHON) python/make_samples.py --fit .build/release/fit

clean:
	rm -rf .build
