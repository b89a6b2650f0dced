"""The recommender: audio vectors, implicit-feedback ALS, the Voyager index, Discover Weekly and track radio."""
