#!/usr/bin/env python3
"""Peer for bench/classifier.sh: XGBoost (exact method, the same defaults as Plumb) on a CSV: training time on all
rows and prediction time per row (one batch), medians over rounds. Usage: xgb_bench.py CSV [ROUNDS]"""
import csv
import json
import sys
import time

import numpy as np
import xgboost

rows = list(csv.reader(open(sys.argv[1])))
header, data = rows[0], rows[1:]
label = header.index("label")
X = np.array([[float(v) for i, v in enumerate(r) if i != label] for r in data])
names = sorted(set(r[label] for r in data))
y = np.array([names.index(r[label]) for r in data])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
train, predict = [], []
for _ in range(rounds):
    model = xgboost.XGBClassifier(n_estimators=50, max_depth=6, learning_rate=0.3, reg_lambda=1.0, gamma=0.0, min_child_weight=1.0,
                                  tree_method="exact", objective="multi:softprob", num_class=len(names), base_score=0.5, n_jobs=1)
    started = time.perf_counter()
    model.fit(X, y)
    train.append(time.perf_counter() - started)
    started = time.perf_counter()
    model.predict_proba(X)
    predict.append((time.perf_counter() - started) / len(y) * 1e6)
print(json.dumps({"rows": len(y), "train_seconds": sorted(train)[len(train) // 2],
                  "predict_microseconds_per_row_batch": sorted(predict)[len(predict) // 2], "xgboost": xgboost.__version__}))
