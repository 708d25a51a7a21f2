"""Figures supervisors report (信息报送): per department and township, by week or month."""
