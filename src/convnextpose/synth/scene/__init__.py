"""The world around the people: rooms and outdoor grounds, furniture, textures, lights."""
