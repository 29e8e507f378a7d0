# 银龄 Yinling — `make run` starts everything, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := run
export PYTHONPATH := $(CURDIR)

APP_PY  := .venv/bin/python
RASA_PY := .venv-rasa/bin/python
MODEL   := bot/models/yinling.tar.gz

HAND_WRITTEN_NLU := $(filter-out nlu_data/train/generated_noisy.yml,$(wildcard nlu_data/train/*.yml))
# zhtext is not an input: the components import it when the model loads, not when it trains
TRAIN_INPUTS := bot/config.yml bot/domain.yml $(wildcard bot/data/*.yml) $(HAND_WRITTEN_NLU) \
                nlu_data/train/generated_noisy.yml $(wildcard bot/dict/*) $(wildcard bot/components/*.py)

.PHONY: run setup train data test test-fast bench bench-voice bench-phone bench-web nlu-eval dialogue-eval clean-model models

## run: set up what is missing, train if stale, start Rasa + actions + gateway (`yinling run` fetches the
##      Mandarin voice model into var/models first when it is missing; offline it falls back to the test model)
run: setup $(MODEL)
	$(APP_PY) -m yinling run

## setup: the Python environments (cached outside the repo by lock-file hash): the app's, Rasa's, and the real
##        wyoming-satellite's that the satellite tests drive
setup:
	@tools/ensure_debs.sh
	@tools/ensure_env.sh app
	@tools/ensure_env.sh rasa
	@tools/ensure_env.sh satellite

## data: the same-sound noisy copies of the hand-written training examples
data: nlu_data/train/generated_noisy.yml nlu_data/heldout/test_noisy.yml
nlu_data/train/generated_noisy.yml: $(HAND_WRITTEN_NLU) tools/noisy_nlu.py zhtext/homophones.py
	$(RASA_PY) tools/noisy_nlu.py --in nlu_data/train --out $@ --copies 1 --seed 7
nlu_data/heldout/test_noisy.yml: nlu_data/heldout/test.yml tools/noisy_nlu.py zhtext/homophones.py
	$(RASA_PY) tools/noisy_nlu.py --in $< --out $@ --copies 1 --seed 11

## train: retrain the Rasa model when its config or training data changed
train: setup $(MODEL)
$(MODEL): $(TRAIN_INPUTS)
	@$(MAKE) --no-print-directory setup
	cd bot && ../.venv-rasa/bin/rasa train --data data ../nlu_data/train --out models --fixed-model-name yinling
	@touch $@

## test: everything (services on SQLite and PostgreSQL, NLU, real Rasa end to end)
test: setup $(MODEL)
	@tools/ensure_debs.sh test
	$(RASA_PY) -m pytest -q -p no:cacheprovider --durations=10 tests/rasa tests/nlu tests/zhtext
	$(APP_PY) -m pytest -q -p no:cacheprovider --durations=25 tests --ignore=tests/rasa --ignore=tests/nlu

## nlu-eval: intent accuracy on the held-out files (and their same-sound twin)
nlu-eval: setup $(MODEL)
	$(RASA_PY) -m tests.rasa.nlu_eval

## dialogue-eval: the scripted conversations (tests/e2e/dialogues) through the whole stack: pass rates per theme
dialogue-eval: setup $(MODEL)
	$(APP_PY) tools/dialogue_eval.py $(DIALOGUE_EVAL_ARGS)

## bench: latency of whole text turns at 1 and 20 concurrent senders
bench: setup $(MODEL)
	$(APP_PY) bench/text_turn.py

## bench-voice: recogniser RTF, end of speech to first answer audio, TTS time, memory per stream
bench-voice: setup $(MODEL)
	$(APP_PY) bench/voice.py

## bench-phone: real calls at 1, 4 and 8 at once: end of speech / key press to first answer audio, RTP jitter, gaps, CPU per call
bench-phone: setup $(MODEL)
	$(APP_PY) bench/phone.py

## bench-web: 50 family members signed in with live alert streams, chatting; chat latency, alert delivery, gateway memory
bench-web: setup $(MODEL)
	$(APP_PY) bench/web.py

## models: the Vosk models (list; fetch the Mandarin default where the network allows)
models: setup
	$(APP_PY) -m yinling models list

clean-model:
	rm -rf bot/models
