"""The guard's optional cache in front of the session store, and the Redis
channel that invalidates it across processes. Neither talks to Firebase:
``adminapp/firebase/sessions.py`` reads through the cache and publishes each
change on the channel."""
