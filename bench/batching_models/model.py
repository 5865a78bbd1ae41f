import time

FIXED_S = 0.002  # per call: what a vectorised model pays however many samples it gets
PER_SAMPLE_S = 0.00002


def predict(sample, metadata):
    # Batched, `sample` is a list of samples; unbatched, one sample.
    samples = sample if isinstance(sample, list) else [sample]
    time.sleep(FIXED_S + PER_SAMPLE_S * len(samples))
    answers = [{"label": int(sum(s["x"]) > 0)} for s in samples]
    return answers if isinstance(sample, list) else answers[0]
