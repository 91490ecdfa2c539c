from chatkeep.cli import app

app(prog_name="chatkeep")
