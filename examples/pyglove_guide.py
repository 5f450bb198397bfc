"""PyGlove's "Symbolic ML" guide as a Python session with mldsl, on the 8x8 digits (under a minute).

The guide's steps: build a model as a symbolic object, run it, change it by patches instead of editing
code, turn some of its values into a search space, then search with the loop
``for model, feedback in pg.sample(space, algorithm): feedback(train_and_eval(model))``, where mldsl's
``mldsl.run`` does the training and evaluation (and records each run: ``mldsl runs`` lists them).

    python3 examples/pyglove_guide.py                           # the store: $MLDSL_STORE, else ./mldsl.db
"""
from pathlib import Path

import mldsl

HERE = Path(__file__).resolve().parent

# 1. A symbolic experiment: the digits example (64-30-10, SGD with momentum), 5 epochs.
digits = mldsl.load_mlx(HERE / "digits.mlx")["digits"]
base = digits.clone(deep=True, override={"training.num_epochs": 5, "model.layers[1].activation": "relu"})
report = mldsl.run(base, name="guide_base")
print(f"base: accuracy {report.metrics['accuracy']:.4f} (run {report.run_id}, {report.backend})")

# 2. Patches: a plugin's patchers and a path edit, on a copy (mldsl.patch edits in place).
patched = mldsl.patch(base.clone(deep=True), ["std.relu_to_elu", "std.change_lr?0.05"])
print(mldsl.diff(base, patched))
report = mldsl.run(patched, name="guide_patched")
print(f"patched: accuracy {report.metrics['accuracy']:.4f} (run {report.run_id})")

# 3. A search space: hidden width, activation and learning rate, as in the guide.
space = base.clone(deep=True, override={
    "model.layers[1].units": mldsl.oneof([16, 32, 64]),
    "model.layers[1].activation": mldsl.oneof(["relu", "tanh", "sigmoid"]),
    "training.optimizer.learning_rate": mldsl.floatv(0.01, 0.3, scale="log"),
})
print(mldsl.dna_spec(space))

# 4. The guide's loop: sample, train and evaluate, feed the accuracy back to the evolution.
best = None
for example, feedback in mldsl.sample(space, mldsl.Evolution(population_size=4, tournament_size=2, seed=1),
                                      num_examples=8):
    accuracy = mldsl.run(example, name="guide_search").metrics["accuracy"]
    feedback(accuracy)
    layer = example.model.layers[1]
    print(f"trial {feedback.id}: units={layer.units} activation={layer.activation} "
          f"lr={example.training.optimizer.learning_rate:.4f} -> accuracy {accuracy:.4f}")
    if best is None or accuracy > best[0]:
        best = (accuracy, feedback.id, feedback.dna)
print(f"best: trial {best[1]} with accuracy {best[0]:.4f}, DNA {best[2]}")
