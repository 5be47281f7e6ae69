"""One tiny run of the default recipe for the session (every stage, upload as a
dry run): the recipe tests and the documentation snippets read its outputs."""

import pytest

from helpers.recipe_run import run_recipe


@pytest.fixture(scope="session")
def recipe_run(tmp_path_factory):
    """``(directory, output)``: ``data/``, ``exp/`` and ``report/`` of the run."""
    tmp = tmp_path_factory.mktemp("recipe")
    return tmp, run_recipe(tmp, "--hf_repo", "someone/tiny", "--dry_run", "true")
