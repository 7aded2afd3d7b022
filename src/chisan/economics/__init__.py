"""Economics of a plan against business as usual: the BAU case, yearly cash flows, NPV, IRR, payback, LCOE."""
