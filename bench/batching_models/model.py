import time

FIXED_S = 0.002  # per call: what a vectorised model pays however many samples it gets
PER_SAMPLE_S = 0.00002


def predict_all(samples):
    time.sleep(FIXED_S + PER_SAMPLE_S * len(samples))
    return [{"label": int(sum(s["x"]) > 0)} for s in samples]


def predict(sample, metadata):  # unbatched: one sample per call
    return predict_all([sample])[0]
