"""matplotlib for the report scripts, when it is there: `pyplot("x.png")` returns matplotlib.pyplot set up
for files (the Agg backend), or None after saying on standard error that x.png is not drawn. Plots are
optional; tables are always written (launch/plot-python.sh makes a venv that has matplotlib)."""
import sys


def pyplot(output_name):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib not importable: no {output_name}", file=sys.stderr)
        return None
    return plt
