"""Datasets: registration, versions, the lifecycle (draft → published → retired) and history."""
