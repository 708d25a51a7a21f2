"""Business files (监管档案): one record per shop, with its history of cases."""
