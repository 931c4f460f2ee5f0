import numpy as np
from app.engine import digits
from tests.browser.digit_drawings import DRAWINGS
layers = digits.architecture(digits.shipped_params())
ok = 0
for d, styles in DRAWINGS.items():
    for k, s in enumerate(styles):
        c = digits.strokes_to_counts(s)
        p = digits.forward(layers, c).probabilities[0]
        ok += int(np.argmax(p)) == int(d)
        print(d, k, int(np.argmax(p)), round(float(p.max()), 2))
print(ok, "/ 20")
