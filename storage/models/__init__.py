"""The tables, one class per concept, grouped by what they serve; every later feature adds its
own table to its group. Import them from here (`from storage.models import Patient`).

Times are stored as timezone-aware UTC. Free text a patient wrote lives only in columns named for
what it is (pain story, preferred name), encrypted with their own data key when
PAINCOACH_DATA_KEY is set, so a later deletion can find it, and its copies cannot be read.
"""
from storage.models.base import Base, UtcDateTime, utcnow
from storage.models.people import Clinic, Patient, PainStory, Clinician, Invite
from storage.models.machinery import DialogState, ButtonKey, DataKey, ProcessedUpdate, Inbox, ChatLease, Outbox, SendBudget, Deployment
from storage.models.checkins import Schedule, Prompt, Response, Answer
from storage.models.coaching import ThoughtRecord, FlarePlan, FlareEpisode, BreathingSession, PacingActivity, PacingLog, VisitPrep, Sprint, NotedQuestion, SafetyPlan, SmallWin
from storage.models.practices import PracticeRun
from storage.models.safety import SafetyEvent, Alert, AlertDelivery, AuditEntry
from storage.models.web import WebLink, WebSession
from storage.models.exercises import Exercise, ExerciseLog
from storage.models.sleep import SleepRoutine
from storage.models.lessons import LessonCourse, LessonProgress

__all__ = [
    "Base",
    "UtcDateTime",
    "utcnow",
    "Clinic",
    "Patient",
    "PainStory",
    "Clinician",
    "Invite",
    "DialogState",
    "ButtonKey",
    "DataKey",
    "ProcessedUpdate",
    "Inbox",
    "ChatLease",
    "Outbox",
    "SendBudget",
    "Deployment",
    "Schedule",
    "Prompt",
    "Response",
    "Answer",
    "ThoughtRecord",
    "FlarePlan",
    "FlareEpisode",
    "BreathingSession",
    "PacingActivity",
    "PacingLog",
    "VisitPrep",
    "Sprint",
    "NotedQuestion",
    "SafetyPlan",
    "SmallWin",
    "PracticeRun",
    "SafetyEvent",
    "Alert",
    "AlertDelivery",
    "AuditEntry",
    "WebLink",
    "WebSession",
    "Exercise",
    "ExerciseLog",
    "SleepRoutine",
    "LessonCourse",
    "LessonProgress",
]
