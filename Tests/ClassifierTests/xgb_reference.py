#!/usr/bin/env python3
"""Reference for the learner parity tests: writes each data set as CSV and prints XGBoost's k-fold accuracy with
the same hyper-parameters and the same folds (row i → fold i mod k), plus its training time.

Usage: xgb_reference.py OUTDIR [ROUNDS] [MAX_DEPTH] [ETA]
Needs scikit-learn (the data sets) and xgboost (xgboost-cpu on PyPI)."""
import csv
import json
import os
import sys
import time

import numpy as np
import xgboost
from sklearn import datasets




def main():
    outdir = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    eta = float(sys.argv[4]) if len(sys.argv) > 4 else 0.3
    folds = 5
    loaders = {"iris": datasets.load_iris, "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}
    out = {}
    for name, loader in loaders.items():
        bunch = loader()
        X, y = bunch.data, bunch.target
        names = [f"f{i}" for i in range(X.shape[1])] if name != "iris" else ["x1", "x2", "x3", "x4"]
        labels = [str(bunch.target_names[t]) if name != "digits" else str(t) for t in y]
        path = os.path.join(outdir, name + ".csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(names + ["label"])
            for row, label in zip(X, labels):
                w.writerow([repr(float(v)) for v in row] + [label])
        classes = sorted(set(labels))
        index = {c: i for i, c in enumerate(classes)}
        yi = np.array([index[l] for l in labels])
        correct = 0
        started = time.perf_counter()
        for fold in range(folds):
            test = np.arange(len(yi)) % folds == fold
            model = xgboost.XGBClassifier(
                n_estimators=rounds, max_depth=depth, learning_rate=eta, reg_lambda=1.0, gamma=0.0, min_child_weight=1.0,
                tree_method="exact", objective="multi:softprob", num_class=len(classes), base_score=0.5, n_jobs=1)
            model.fit(X[~test], yi[~test])
            predicted = np.asarray(model.predict_proba(X[test])).reshape(int(test.sum()), -1).argmax(axis=1)
            correct += int((predicted == yi[test]).sum())
        seconds = time.perf_counter() - started
        out[name] = {"csv": path, "accuracy": correct / len(yi), "train_seconds_all_folds": seconds, "rows": len(yi),
                     "features": X.shape[1], "classes": len(classes), "xgboost": xgboost.__version__}
    print(json.dumps(out))


main()
