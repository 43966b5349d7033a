"""TextAttack bridge (optional extra `xrobust[textattack]`): TextAttack's own recipes on xrobust examples, for
comparison with published numbers, registered as attacks `textattack.<recipe>.v1`. Importing this package never
imports textattack (see bridge.py)."""
from .attack import TextAttackRecipe
from .bridge import (RECIPES, TextAttackResult, TextAttackUnavailable, attack_with_model, private_dir,
                     run_textattack, unavailable)

__all__ = ["RECIPES", "TextAttackRecipe", "TextAttackResult", "TextAttackUnavailable", "attack_with_model",
           "private_dir", "run_textattack", "unavailable"]
