import OmbudServer
print("bench")
