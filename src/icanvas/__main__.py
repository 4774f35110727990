"""``python -m icanvas`` (also what ``torchrun -m icanvas train ...`` runs)."""

from icanvas.cli import main

if __name__ == "__main__":
    main()
