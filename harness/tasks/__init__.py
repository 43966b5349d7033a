"""Task recipes (datasets and their fields/labels) and TaskAdapters (one per task type)."""
from .base import TASKS, TaskAdapter, TaskRecipe, get_recipe, make_adapter

__all__ = ["TASKS", "TaskAdapter", "TaskRecipe", "get_recipe", "make_adapter"]
