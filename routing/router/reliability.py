"""The reliability table: predicted confidence bins against observed precision."""

BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


def reliability(probabilities, right, bins=BINS) -> list[dict]:
    """Per confidence bin [lo, hi) (the last closed): cases, right, mean confidence, precision."""
    table = []
    for i, (lo, hi) in enumerate(zip(bins, bins[1:])):
        last = i == len(bins) - 2
        inside = [(p, r) for p, r in zip(probabilities, right) if lo <= p < hi or (last and p == hi)]
        n, hits = len(inside), sum(bool(r) for _, r in inside)
        table.append(
            {
                "lo": lo,
                "hi": hi,
                "cases": n,
                "right": hits,
                "mean_confidence": sum(p for p, _ in inside) / n if n else None,
                "precision": hits / n if n else None,
            }
        )
    return table


def format_reliability(table: list[dict]) -> str:
    lines = ["confidence   cases  right  mean conf  observed precision"]
    for row in table:
        mean = f"{row['mean_confidence']:.3f}" if row["cases"] else "    -"
        prec = f"{row['precision']:.1%}" if row["cases"] else "-"
        lines.append(f"{row['lo']:.2f}–{row['hi']:.2f}  {row['cases']:6d} {row['right']:6d}  {mean:>9}  {prec:>8}")
    return "\n".join(lines)
