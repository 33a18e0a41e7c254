import OmbudServer

try await OmbudMain.run()
