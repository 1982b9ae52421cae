from partnerapp.formats.swiss import *  # noqa: F403 - the same in every language
