hello NAME in $(MODE) mode
