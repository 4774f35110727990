# Retrain every bundled model from ../shared/data with the exact presets.
#   make models            # prepare the data, train, and copy fp16 weights into src/icanvas/bundled/
#   make data              # only prepare the datasets (under $(WORK)/data)
# Long: on 2 CPU cores the 256 px model takes many hours; runs resume where they stopped
# (`make models` again continues them). Set DATA and WORK to use other folders.
DATA ?= ../shared/data
WORK ?= runs/bundled
I := .venv/bin/icanvas
BUNDLE := src/icanvas/bundled
ZAPPOS := UT-Zappos50K shoes / edges2handbags (pix2pix) via edges2shoes_handbags; research / non-commercial
KINDS_DATA := shoe_hed shoe_xdog handbag_hed handbag_xdog cat panda car face

.PHONY: models data sketch sketch-nobg crayons recognizer surprise anime
models: crayons recognizer surprise anime

data: $(addprefix $(WORK)/data/,$(addsuffix /manifest.json,$(KINDS_DATA)))

$(WORK)/data/%_hed/manifest.json:
	$(I) prepare $(DATA)/edges2shoes_handbags $(@D) --pairs-order photo-sketch --edges dataset --category $* --kind $* --data-terms "$(ZAPPOS)"
$(WORK)/data/%_xdog/manifest.json:
	$(I) prepare $(DATA)/edges2shoes_handbags $(@D) --pairs-order photo-sketch --edges xdog --category $* --kind $* --data-terms "$(ZAPPOS)"
$(WORK)/data/cat/manifest.json:
	$(I) prepare $(DATA)/photos/cat $(@D) --remove-background --kind cat --data-terms "cat photographs of unstated origin; research / non-commercial"
$(WORK)/data/panda/manifest.json:
	$(I) prepare $(DATA)/photos/panda $(@D) --remove-background --kind panda --data-terms "panda photographs of unstated origin; research / non-commercial"
$(WORK)/data/car/manifest.json:
	$(I) prepare $(DATA)/photos/car $(@D) --remove-background --background-init border --kind car --data-terms "Stanford Cars; research / non-commercial"
$(WORK)/data/face/manifest.json:
	$(I) prepare $(DATA)/photos/cartoon_face $(@D) --kind face --data-terms "Google Cartoon Set, CC BY 4.0"
$(WORK)/data/face_box/manifest.json:
	$(I) prepare $(DATA)/photos/cartoon_face $(@D) --box 0.2,0.27,0.8,0.87 --kind face --data-terms "Google Cartoon Set, CC BY 4.0"
$(WORK)/data/character/manifest.json:
	$(I) prepare $(DATA)/selfie2anime/trainB $(@D) --kind character --data-terms "selfie2anime (U-GAT-IT) anime faces; research / non-commercial"

# photo kinds with their backgrounds kept (the second base run's data and the car model's), and cropped to the
# animal with the background kept (the panda model's data: pandas are often small in the scene)
TERMS_cat := cat photographs of unstated origin; research / non-commercial
TERMS_panda := panda photographs of unstated origin; research / non-commercial
TERMS_car := Stanford Cars; research / non-commercial
$(WORK)/data/%_nobg/manifest.json:
	$(I) prepare $(DATA)/photos/$* $(@D) --kind $* --data-terms "$(TERMS_$*)"
$(WORK)/data/%_subject/manifest.json:
	$(I) prepare $(DATA)/photos/$* $(@D) --fit subject --kind $* --data-terms "$(TERMS_$*)"

# Sketch-to-picture models without crayons: a class-conditional base run over every kind, stopped at
# step $(BASE_STEP), then one short fine-tune per kind from it (configs/icanvas-256-kind.yaml), bundled by
# `make kind-<kind>`. No bundled model is made this way now (the panda model before crayons was
# `make kind-panda`); `make sketch` trains the two bases.
BASE_STEP := 3047
comma := ,
DATA_shoe_handbag := shoe_hed shoe_xdog handbag_hed handbag_xdog
KINDS_shoe_handbag := shoe,handbag
# the panda and car models start from a base trained without background removal on cat, panda and car
KINDS_DATA_NOBG := shoe_hed shoe_xdog handbag_hed handbag_xdog cat_nobg panda_nobg car_nobg face
DATA_panda := panda_subject
BASE_panda := icanvas-256-nobg
STEPS_panda := 1200
DATA_car := car_nobg
BASE_car := icanvas-256-nobg
# people draw a face without the hair that frames every Cartoon Set face: the face model learns
# from the same box of every picture, which keeps the face and cuts most of the hair
DATA_face := face_box

sketch: data
	$(I) train --config icanvas-256 $(addprefix --data $(WORK)/data/,$(KINDS_DATA)) --out $(WORK)/icanvas-256 \
	    --stop-at $(BASE_STEP) $$(test -d $(WORK)/icanvas-256/checkpoint && echo --resume)
	$(MAKE) sketch-nobg

sketch-nobg: $(addprefix $(WORK)/data/,$(addsuffix /manifest.json,$(KINDS_DATA_NOBG)))
	$(I) train --config icanvas-256 $(addprefix --data $(WORK)/data/,$(KINDS_DATA_NOBG)) --out $(WORK)/icanvas-256-nobg \
	    --stop-at $(BASE_STEP) $$(test -d $(WORK)/icanvas-256-nobg/checkpoint && echo --resume)

# one kind model: its data folders (default: the folder named like it) and its kinds
kind-%:
	$(MAKE) $(addprefix $(WORK)/data/,$(addsuffix /manifest.json,$(or $(DATA_$*),$*)))
	$(I) train --config icanvas-256-kind $(addprefix --data $(WORK)/data/,$(or $(DATA_$*),$*)) --out $(WORK)/$* \
	    --set "data.kinds=[$(or $(KINDS_$*),$*)]" --set generator.num_classes=$(words $(subst $(comma), ,$(or $(KINDS_$*),$*))) \
	    --set run.init_from=$(WORK)/$(or $(BASE_$*),icanvas-256) $(if $(STEPS_$*),--set run.steps=$(STEPS_$*)) $$(test -d $(WORK)/$*/checkpoint && echo --resume)
	$(I) export --model $(WORK)/$*/model --folder $(BUNDLE)/$*

# The sketch-to-picture models with crayons (configs/icanvas-256-crayon.yaml): one run per kind
# from scratch, at the steps the bundled models were trained for. On a GPU the five runs took 7.5 min
# side by side; on 2 CPU cores with bf16 instructions each takes about 2 hours.
CRAYON_MODELS := shoe_handbag cat panda car face character
CRAYON_STEPS_shoe_handbag := 2333
CRAYON_STEPS_cat := 2208
CRAYON_STEPS_car := 2188
CRAYON_STEPS_face := 2150
CRAYON_STEPS_character := 1997
CRAYON_DATA_car := car_nobg
# the panda photos are scenes: the crayon recolours the panda GrabCut finds, not the bamboo round it; the
# model starts from the cat model with crayons (its crayon inputs already trained), the panda taking the
# cat's class rows
CRAYON_DATA_panda := panda_subject
CRAYON_STEPS_panda := 1200
CRAYON_SET_panda := --set hints.region=subject --set run.init_from=$(WORK)/crayon-cat/model --set "run.init_kinds=[panda=cat]"
crayon-panda: crayon-cat
crayons: $(addprefix crayon-,$(CRAYON_MODELS))

crayon-%:
	$(MAKE) $(addprefix $(WORK)/data/,$(addsuffix /manifest.json,$(or $(CRAYON_DATA_$*),$(DATA_$*),$*)))
	$(I) train --config icanvas-256-crayon $(addprefix --data $(WORK)/data/,$(or $(CRAYON_DATA_$*),$(DATA_$*),$*)) --out $(WORK)/crayon-$* \
	    --set "data.kinds=[$(or $(KINDS_$*),$*)]" --set generator.num_classes=$(words $(subst $(comma), ,$(or $(KINDS_$*),$*))) \
	    --set run.steps=$(CRAYON_STEPS_$*) $(CRAYON_SET_$*) $$(test -d $(WORK)/crayon-$*/checkpoint && echo --resume)
	$(I) export --model $(WORK)/crayon-$*/model --folder $(BUNDLE)/$*

# the recognizer: 12 Quick, Draw! classes from real bitmaps, and the studio kinds without real doodles
# (shoe, handbag, panda) from doodles drawn from their prepared pairs; tested on real stroke doodles
DOODLES := $(WORK)/data/doodles
# people draw shoes from the side, handbags with a round handle, and pandas mostly as a face
DOODLE_shoe := --per-photo 1 --level --max-interior 3
DOODLE_handbag := --per-photo 2 --min-holes 1 --round-holes
$(DOODLES)/shoe.npy $(DOODLES)/handbag.npy: $(DOODLES)/%.npy: $(WORK)/data/%_hed/manifest.json $(WORK)/data/%_xdog/manifest.json
	$(I) doodles $(WORK)/data/$*_hed $(WORK)/data/$*_xdog --label $* $(DOODLE_$*) --out $(DOODLES)
$(DOODLES)/panda.npy: $(WORK)/data/panda_subject/manifest.json
	$(I) doodles $(WORK)/data/panda_subject --label panda --mask grabcut --interior patches --per-photo 1 --heads 5 --out $(DOODLES)

# The base run never sees the real stroke doodles. The bundled model is that run fine-tuned with
# them too (the few real ones of shoe, handbag and panda drawn half of their class's turns); its
# figures and pre-selection threshold come from a 5-fold cross-validation, each fold fine-tuned
# from the same base and tested on the fifth of the doodles it never trained on.
REC_FOLDS := 0 1 2 3 4
REC_DATA := --data $(DATA)/quickdraw/bitmaps --data $(DOODLES)
REC_TUNE := --set data.canvas_test=$(DATA)/quickdraw/strokes --set data.canvas_folds=5 --set run.init_from=$(WORK)/recognizer-base \
    --set run.steps=400 --set optim.lr=0.001 --set optim.warmup=0.05 --set run.eval_every=0 --set run.sample_every=0

recognizer: $(DOODLES)/shoe.npy $(DOODLES)/handbag.npy $(DOODLES)/panda.npy
	$(I) train --config recognizer $(REC_DATA) --out $(WORK)/recognizer-base \
	    --set data.canvas_test=$(DATA)/quickdraw/strokes $$(test -d $(WORK)/recognizer-base/checkpoint && echo --resume)
	for k in $(REC_FOLDS); do test -f $(WORK)/recognizer-fold$$k/model/config.json || \
	    $(I) train --config recognizer $(REC_DATA) --out $(WORK)/recognizer-fold$$k $(REC_TUNE) --set data.canvas_fold=$$k \
	    $$(test -d $(WORK)/recognizer-fold$$k/checkpoint && echo --resume) || exit 1; done
	.venv/bin/python benchmarks/recognizer.py --folds $(addprefix $(WORK)/recognizer-fold,$(REC_FOLDS)) \
	    --threshold-out $(WORK)/recognizer-threshold.txt | tee $(WORK)/recognizer-cv.md
	test -f $(WORK)/recognizer-tuned/model/config.json || $(I) train --config recognizer $(REC_DATA) --out $(WORK)/recognizer-tuned $(REC_TUNE) \
	    --set data.canvas_fold=-1 --set data.preselect_min_prob=$$(cat $(WORK)/recognizer-threshold.txt) \
	    $$(test -d $(WORK)/recognizer-tuned/checkpoint && echo --resume)
	$(I) export --model $(WORK)/recognizer-tuned/model --folder $(BUNDLE)/recognizer
	printf '\n## Cross-validation on the real stroke doodles (benchmarks/recognizer.py --folds)\n\n' >> $(BUNDLE)/recognizer/card.md
	cat $(WORK)/recognizer-cv.md >> $(BUNDLE)/recognizer/card.md

# the studio's "surprise me" pictures: anime faces from nothing (DCGAN, 64 px)
surprise:
	$(I) train --config dcgan-anime_face --data $(DATA)/photos/anime_face_64 --out $(WORK)/anime_face \
	    $$(test -d $(WORK)/anime_face/checkpoint && echo --resume)
	$(I) export --model $(WORK)/anime_face/model --folder $(BUNDLE)/anime_face

# the photo -> character style: unpaired translation (FastCUT settings) of selfies into anime faces, 256 px
anime:
	$(I) train --config anime --data $(DATA)/selfie2anime --out $(WORK)/anime \
	    $$(test -d $(WORK)/anime/checkpoint && echo --resume)
	$(I) export --model $(WORK)/anime/model --folder $(BUNDLE)/anime
