"""Speed and memory benchmarks, printed as ratios measured side by side in one run (never run by pytest)."""
