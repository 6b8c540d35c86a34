"""Flask extensions, created unbound and bound in the factory."""

from flask_socketio import SocketIO

socketio = SocketIO()
