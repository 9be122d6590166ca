"""Synthetic people for every body back-end: anatomical pose parameters and limits, the pose library, pose
kinematics, self-collision rejection, outfits, and drawing people standing still or moving."""
