"""Reading what an image file declares with Pillow, without Pillow ever raising a warning."""
