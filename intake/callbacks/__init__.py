"""The satisfaction callback (回访) after a reply, and the supervisors' review of 不满意."""
