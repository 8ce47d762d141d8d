#!/usr/bin/env python3
"""scikit-learn's KMeans on the TF-IDF matrix Plumb made, for the clustering parity test.

    kmeans_reference.py matrix.json
matrix.json: {"rows": n, "columns": d, "k": k, "inits": n_init, "indices": [[...]], "values": [[...]],
"truth": [...], "plumb_labels": [...]}. Prints one JSON object: sklearn's inertia, labels and fit time, and the adjusted
Rand index (sklearn.metrics.adjusted_rand_score) of sklearn's labels and of Plumb's against the truth.
"""
import json
import sys
import time

from scipy.sparse import csr_matrix
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

m = json.load(open(sys.argv[1]))
data, indices, indptr = [], [], [0]
for idx, val in zip(m["indices"], m["values"]):
    indices += idx
    data += val
    indptr.append(len(indices))
X = csr_matrix((data, indices, indptr), shape=(m["rows"], m["columns"]))
started = time.perf_counter()
km = KMeans(n_clusters=m["k"], n_init=m["inits"], init="k-means++", random_state=0, algorithm="lloyd").fit(X)
seconds = time.perf_counter() - started
print(json.dumps({
    "inertia": float(km.inertia_),
    "seconds": seconds,
    "labels": [int(x) for x in km.labels_],
    "ari_sklearn": adjusted_rand_score(m["truth"], km.labels_),
    "ari_plumb": adjusted_rand_score(m["truth"], m["plumb_labels"]),
}))
