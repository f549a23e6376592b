import time
from custom_components.atm90e32.driver.accuracy import *
from custom_components.atm90e32.driver.front_end import *
t=time.time()
for cls in ("0.5","0.2S"):
    errs = FrontEndErrors(ct={Phase.A: CtModel(100, cls), Phase.B: None, Phase.C: None})
    res = run_stages(lambda: Bench(errs))
    for r in res:
        print(cls, r.stage, {k: round(v,3) for k,v in r.errors.items()}, r.starting, r.creep_counts, r.registers)
        print("  margins 0.5S", round(worst_margin(r,"0.5S"),3), "1", round(worst_margin(r,"1"),3))
print(time.time()-t)
