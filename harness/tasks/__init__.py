"""Task recipes and adapters (one adapter module per task type)."""
from .base import (ADAPTERS, TASKS, TaskAdapter, TaskRecipe, adapter_class, get_recipe, make_adapter,
                   perturb_text_fields)

__all__ = ["ADAPTERS", "TASKS", "TaskAdapter", "TaskRecipe", "adapter_class", "get_recipe", "make_adapter",
           "perturb_text_fields"]
