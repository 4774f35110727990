"""`icanvas generate` on a photographed page: the page is found, and the pair is drawing | picture at one height."""

import numpy as np
from PIL import Image

from icanvas.eval.paper_photos import paper_photo
from tests.cli_run import run_cli as run


def test_generate_finds_the_page_and_pairs_at_the_same_height(monkeypatch, capsys, tmp_path):
    photo = paper_photo(1600, seed=4, backdrop="wood", angle=15, shadow=True)
    Image.fromarray(photo.rgb).save(tmp_path / "page.jpg", quality=90)
    code, text = run(monkeypatch, capsys, "generate", "--model", "cat", "--backend", "torch", tmp_path / "page.jpg",
                     "-o", tmp_path / "cat.png", "--side-by-side")
    assert code == 0, text
    assert "photographed page, found and straightened" in text
    picture = np.asarray(Image.open(tmp_path / "cat.png"))
    assert picture.shape[0] > picture.shape[1]  # the portrait page, not the landscape photo
    pair = np.asarray(Image.open(tmp_path / "cat_pair.png"))
    assert pair.shape[0] == picture.shape[0] + 8  # one row of both, 4 px of padding above and below
    left = pair[4:-4, 4 : pair.shape[1] - picture.shape[1] - 8]
    assert abs(left.shape[1] - picture.shape[1]) <= 2  # the drawing is as tall as the picture, so as wide too
    reddish = (left[..., 0].astype(int) - left[..., 2] > 80) & (left[..., 0] > 150)
    assert reddish.mean() > 0.002  # the crayon colouring-in shows in its colour, as the model sees it, not as black ink
