"""Doctors: profiles, specialization catalogue, admin verification, reviews."""
